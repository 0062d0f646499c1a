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

// kill ends the CLI and everything it started (its plugins share its
// process group): a child left running would keep the output pipes open,
// and the wait for the CLI would never end.
func kill(p *os.Process) error {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		return p.Kill()
	}
	return nil
}
