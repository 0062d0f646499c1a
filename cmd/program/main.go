// Command program is the entry point Pulumi.yaml names, so that
// `pulumi preview --stack staging` works in PR review. It only runs
// stacks.Program, the same function the Automation driver runs inline.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/mirror-dissonance/mirror-infra/stacks"
)

func main() { pulumi.Run(stacks.Program) }
