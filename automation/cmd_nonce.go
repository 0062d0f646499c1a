package main

import "context"

const nonceDetail = `Not built yet (issue: the Oracle adapter layer and the E2E cycle).`

func runNonce(ctx context.Context, io stdio, args []string) int { return notBuilt(io, "nonce") }
