package main

import "context"

const rehearseDetail = `Not built yet (issue: rehearse).`

func runRehearse(ctx context.Context, io stdio, args []string) int { return notBuilt(io, "rehearse") }
