# Debian's Chromium for the browser tests (playwright-core drives it; it cannot download browsers here).
if [ -x /usr/bin/chromium ]; then return 0; fi
apt_install chromium fonts-dejavu-core
/usr/bin/chromium --version
