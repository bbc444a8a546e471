// The pod sandbox's "pause" process (what registry.k8s.io/pause does): holds the pod's namespaces,
// reaps zombie children (it is PID 1 when the pod shares its PID namespace) and exits on SIGTERM/SIGINT.
// Built static (CGO_ENABLED=0) by scripts/provision/node.sh into an image of one file, because the
// test cluster has no registry to pull the upstream one from.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
