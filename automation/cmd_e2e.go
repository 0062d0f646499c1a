package main

import "context"

const e2eDetail = `Not built yet (issue: the Oracle adapter layer and the E2E cycle).`

func runE2E(ctx context.Context, io stdio, args []string) int { return notBuilt(io, "e2e") }
