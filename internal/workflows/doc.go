// Package workflows keeps the GitHub Actions workflows of this repository
// (.github/workflows) and the Oracle test-repository template
// (docs/examples/oracle-check.yml) to their security properties: OIDC only,
// actions pinned to commits, least permissions per job, deploys behind a
// GitHub environment, one operation per stack at a time, and no fork reaching
// a role. The properties are asserted by this package's tests; the package
// itself only exports FindInvocations, which the driver's tests also use to
// compare documented command lines with the driver's help.
package workflows
