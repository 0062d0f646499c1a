package stackconfig

import "testing"

func TestLoadShippedStacks(t *testing.T) {
	for _, s := range []string{"staging", "production"} {
		c, err := Load("..", s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if c.Environment != s {
			t.Fatalf("%s: environment %q", s, c.Environment)
		}
	}
}
