package awsclient

import "slices"

// Regions are the AWS regions (commercial, GovCloud, China) a stack or a
// target may name; anything else is a typo or a made-up name, refused
// before any call (the SDK would send it to a host that does not exist).
var regions = []string{
	"af-south-1",
	"ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
	"ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
	"ca-central-1", "ca-west-1",
	"cn-north-1", "cn-northwest-1",
	"eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
	"eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1",
	"me-central-1", "me-south-1",
	"mx-central-1",
	"sa-east-1",
	"us-east-1", "us-east-2", "us-gov-east-1", "us-gov-west-1", "us-west-1", "us-west-2",
}

// Regions returns the known AWS regions, sorted.
func Regions() []string { return slices.Clone(regions) }

// KnownRegion reports whether r is a known AWS region.
func KnownRegion(r string) bool {
	_, ok := slices.BinarySearch(regions, r)
	return ok
}
