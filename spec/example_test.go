package spec_test

import (
	"fmt"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// The names, schemas and alarms of one environment, as the program
// declares them and the verifier checks them.
func ExampleFor() {
	n := spec.For("staging")
	for _, t := range spec.TableSchemas {
		fmt.Printf("%s hash=%s range=%q ttl=%q\n", n.Table(t.Suffix), t.HashKey, t.RangeKey, t.TTLAttribute)
	}
	fmt.Println(n.KeyAlias(), n.Topic())
	fmt.Println(len(n.ThrottleAlarms()), "alarms, e.g.", n.ThrottleAlarms()[0].Name)
	fmt.Println(n.NonceParameter(2))
	// Output:
	// mirror-dissonance-staging-fp-events hash=pk range="sk" ttl="expiresAt"
	// mirror-dissonance-staging-consent hash=orgId range="" ttl=""
	// mirror-dissonance-staging-block-counter hash=bucketKey range="" ttl="expiresAt"
	// alias/mirror-dissonance-staging mirror-dissonance-staging-ops-alerts
	// 6 alarms, e.g. mirror-dissonance-staging-fp-events-read-throttle
	// /guardian/staging/redaction_nonce_v2
}

// Reading a policy back as AWS returns it, and asking it a question.
func ExampleParsePolicy() {
	doc, err := spec.KeyPolicy(spec.Account{ID: "123456789012", Region: "us-east-1"}).JSON()
	if err != nil {
		panic(err)
	}
	p, err := spec.ParsePolicy(doc)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.AllowsService(spec.CloudWatchPrincipal, spec.AlarmDeliveryActions...))
	fmt.Println(p.Without(spec.SidKeyCloudWatchAlarms).AllowsService(spec.CloudWatchPrincipal, spec.AlarmDeliveryActions...))
	// Output:
	// true
	// false
}
