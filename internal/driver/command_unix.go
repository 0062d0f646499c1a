//go:build unix

package driver

import (
	"os"
	"os/exec"
	"syscall"
)

// ownProcessGroup keeps a terminal's Ctrl-C away from the CLI; the driver
// forwards one interrupt itself.
func ownProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func interrupt(p *os.Process) error { return p.Signal(os.Interrupt) }
