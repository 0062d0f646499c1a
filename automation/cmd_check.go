package main

import "context"

const checkDetail = `Not built yet (issue: the foundation and the driver).`

func runCheck(ctx context.Context, io stdio, args []string) int { return notBuilt(io, "check") }
