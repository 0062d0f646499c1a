package verify

import (
	"fmt"
	"strings"

	"github.com/mirror-dissonance/mirror-infra/awsclient"
	"github.com/mirror-dissonance/mirror-infra/report"
)

func isNotFound(err error) bool { return awsclient.IsNotFound(err) }

// callFailed turns an error that is not a finding about the resource into a
// result: access denied is a FAIL with a fix (wrong role); anything else is
// an infrastructure failure (exit 3).
func callFailed(id, what string, err error) report.Check {
	if awsclient.IsAccessDenied(err) {
		return report.Check{ID: id, Status: report.Fail, Reason: what + ": access denied: " + err.Error(),
			Fix: "run with credentials allowed to read the environment's resources (the aws.Config's credentials or the role it assumes; docs/verify-library.md lists the permissions)"}
	}
	return report.Check{ID: id, Status: report.Fail, Infra: true, Reason: what + ": " + err.Error(),
		Fix: "the call failed for a reason other than the resource's state; check the endpoint (AWS_ENDPOINT_URL or the aws.Config's BaseEndpoint) and run again"}
}

// findings collects problems (FAIL), soft problems (WARN) and details while
// a check runs, then becomes one result.
type findings struct {
	id       string
	fails    []string
	warns    []string
	fixes    []string
	details  map[string]string
	infraErr *report.Check
}

func newFindings(id string) *findings { return &findings{id: id, details: map[string]string{}} }

func (f *findings) fail(fix, format string, a ...any) {
	f.fails = append(f.fails, fmt.Sprintf(format, a...))
	f.addFix(fix)
}

func (f *findings) warn(fix, format string, a ...any) {
	f.warns = append(f.warns, fmt.Sprintf(format, a...))
	f.addFix(fix)
}

func (f *findings) addFix(fix string) {
	if fix == "" {
		return
	}
	for _, x := range f.fixes {
		if x == fix {
			return
		}
	}
	f.fixes = append(f.fixes, fix)
}

// failed records err, unless nil, as a call failure of what, and reports
// whether there was one.
func (f *findings) failed(what string, err error) bool {
	if err != nil {
		f.err(what, err)
	}
	return err != nil
}

// absent records a missing resource (err is a not-found error) as a FAIL
// and reports whether it was missing.
func (f *findings) absent(err error, fix, format string, a ...any) bool {
	if isNotFound(err) {
		f.fail(fix, format, a...)
	}
	return isNotFound(err)
}

// err records a call failure; the first one decides the result unless a
// real finding (FAIL) is also present.
func (f *findings) err(what string, err error) {
	if f.infraErr == nil {
		c := callFailed(f.id, what, err)
		f.infraErr = &c
	}
}

func (f *findings) result(pass string) report.Check {
	c := report.Check{ID: f.id, Details: f.details}
	if len(c.Details) == 0 {
		c.Details = nil
	}
	switch {
	case len(f.fails) > 0:
		c.Status, c.Reason = report.Fail, strings.Join(f.fails, "; ")
		if f.infraErr != nil {
			c.Reason += "; also: " + f.infraErr.Reason
		}
	case f.infraErr != nil:
		c.Status, c.Reason, c.Infra = report.Fail, f.infraErr.Reason, f.infraErr.Infra
		f.addFix(f.infraErr.Fix)
	case len(f.warns) > 0:
		c.Status, c.Reason = report.Warn, strings.Join(f.warns, "; ")
	default:
		c.Status, c.Reason = report.Pass, pass
	}
	if c.Status != report.Pass {
		c.Fix = strings.Join(f.fixes, "; ")
	}
	return c
}

// incomplete is the error of an answer that parsed but lacks what the API
// always returns (a DescribeTable without a Table): not a finding about the
// resource but a broken endpoint or a proxy in front of it.
func incomplete(op, what string) error {
	return fmt.Errorf("%s answered without %s, which the API always returns: the endpoint (or a proxy in front of it) gave a broken answer", op, what)
}
