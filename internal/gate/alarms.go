package gate

import (
	"strings"

	"github.com/mirror-dissonance/mirror-infra/spec"
)

// Rules of SPEC 5 on the throttle alarms (SPEC 2.4).
const (
	RuleAlarmCount       = "alarm-count"
	RuleAlarmActions     = "alarm-actions"
	RuleAlarmMissingData = "alarm-missing-data"
)

func init() {
	register(
		Rule{ID: RuleAlarmCount, Description: "exactly six alarms", Check: func(p *Plan) {
			if n, want := len(p.Of(TypeAlarm)), len(p.Names.ThrottleAlarms()); n != want {
				p.Fail(Resource{}, "the plan keeps %d alarms; SPEC 2.4 has exactly %d", n, want)
			}
		}},
		Rule{ID: RuleAlarmActions, Description: "every alarm's alarm and OK actions go to the ops topic", Check: func(p *Plan) {
			topic := p.Names.Topic()
			for _, r := range p.Of(TypeAlarm) {
				for _, key := range []string{"alarmActions", "okActions"} {
					list, ok := p.List(r, key)
					if ok && len(list) == 0 {
						p.Fail(r, "%s is empty: the alarm notifies nobody", key)
					}
					for _, a := range list {
						if s, _ := a.(string); !strings.HasSuffix(s, ":"+topic) {
							p.Fail(r, "%s contains %q, not the ops topic %s", key, s, topic)
						}
					}
				}
			}
		}},
		Rule{ID: RuleAlarmMissingData, Description: "alarms treat missing data as " + spec.AlarmTreatMissingData, Check: func(p *Plan) {
			for _, r := range p.Of(TypeAlarm) {
				if v, ok := p.Str(r, "treatMissingData"); ok && v != spec.AlarmTreatMissingData {
					p.Fail(r, "treatMissingData is %q, want %s (idle tables must sit in OK)", v, spec.AlarmTreatMissingData)
				}
			}
		}},
	)
}
