//go:build tools

// Package tools pins the command-line tools the Makefile builds, so that
// their versions live in go.mod like any other dependency.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
