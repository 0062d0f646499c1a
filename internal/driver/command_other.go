//go:build !unix

package driver

import (
	"os"
	"os/exec"
)

func ownProcessGroup(*exec.Cmd) {}

// interrupt kills where there is no SIGINT to send (Windows).
func interrupt(p *os.Process) error { return p.Kill() }

func kill(p *os.Process) error { return p.Kill() }
