package spec

// Alarm settings of SPEC 2.4, the same for all six alarms.
const (
	AlarmNamespace         = "AWS/DynamoDB"
	AlarmDimension         = "TableName"
	AlarmStatistic         = "Sum"
	AlarmPeriod            = 300
	AlarmEvaluationPeriods = 2
	AlarmComparison        = "GreaterThanThreshold"
	// AlarmTreatMissingData keeps idle tables in OK (the original left it
	// unset, so "alarms in OK" could never pass).
	AlarmTreatMissingData = "notBreaching"
	// DefaultThrottleThreshold is the threshold when config sets none.
	DefaultThrottleThreshold = 10

	MetricReadThrottle  = "ReadThrottleEvents"
	MetricWriteThrottle = "WriteThrottleEvents"
)

// ThrottleAlarm is one of the six alarms.
type ThrottleAlarm struct {
	Name string
	// Table is the table suffix, TableName the physical table name (the
	// alarm's dimension).
	Table, TableName string
	Metric           string
	// Op is "read" or "write".
	Op string
}

// ThrottleAlarms returns the six alarms: read then write, per table in
// TableSuffixes order (the order of Alarms).
func (n Names) ThrottleAlarms() []ThrottleAlarm {
	out := make([]ThrottleAlarm, 0, 2*len(TableSuffixes))
	for _, t := range TableSuffixes {
		out = append(out,
			ThrottleAlarm{Name: n.ReadThrottleAlarm(t), Table: t, TableName: n.Table(t), Metric: MetricReadThrottle, Op: "read"},
			ThrottleAlarm{Name: n.WriteThrottleAlarm(t), Table: t, TableName: n.Table(t), Metric: MetricWriteThrottle, Op: "write"})
	}
	return out
}
