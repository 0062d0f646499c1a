package main

import "context"

const verifyDetail = `Not built yet (issue: the verifier library).`

func runVerify(ctx context.Context, io stdio, args []string) int { return notBuilt(io, "verify") }
