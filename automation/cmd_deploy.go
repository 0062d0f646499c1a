package main

import "context"

const deployDetail = `Not built yet (issue: the Automation driver).`
const previewDetail = `Not built yet (issue: the Automation driver).`
const driftDetail = `Not built yet (issue: the Automation driver).`
const destroyDetail = `Not built yet (issue: the Automation driver).`

func runDeploy(ctx context.Context, io stdio, args []string) int  { return notBuilt(io, "deploy") }
func runPreview(ctx context.Context, io stdio, args []string) int { return notBuilt(io, "preview") }
func runDrift(ctx context.Context, io stdio, args []string) int   { return notBuilt(io, "drift") }
func runDestroy(ctx context.Context, io stdio, args []string) int { return notBuilt(io, "destroy") }
