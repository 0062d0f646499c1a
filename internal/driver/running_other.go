//go:build !linux

package driver

import (
	"os"
	"syscall"
)

// pulumiProcess: without /proc, a live pid on this host is taken to be the
// lock's CLI (the safe assumption: unlock then refuses).
func pulumiProcess(pid int) (string, bool) {
	p, err := os.FindProcess(pid)
	if err != nil {
		return "", false
	}
	if err := p.Signal(syscall.Signal(0)); err != nil {
		return "", false
	}
	return "(pid alive; command line not inspected on this OS)", true
}

// pulumiProcesses: listing processes is only implemented on Linux; the
// lock's own pid is still checked.
func pulumiProcesses() []localProc { return nil }
