module sentinelml.local/tools/kube/pause

go 1.25.0
