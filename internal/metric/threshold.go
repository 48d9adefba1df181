package metric

// Targets accepted by Threshold, from the most faithful to the smallest.
const (
	TargetHigh     = "high"
	TargetBalanced = "balanced"
	TargetSmall    = "small"
)

// thresholds holds, per target, the largest Distance accepted for any codec
// and the looser limits calibrated per codec. The numbers come from
// scripts/calibrate.sh; docs/calibration.md shows the data behind them.
var thresholds = map[string]struct {
	all   float64
	codec map[string]float64
}{
	TargetHigh:     {all: 0.5},
	TargetBalanced: {all: 1.0},
	TargetSmall:    {all: 2.0},
}

// Threshold returns the largest Distance accepted for target ("high",
// "balanced" or "small") whatever the codec. ok is false for an unknown
// target.
func Threshold(target string) (float64, bool) {
	t, ok := thresholds[target]
	return t.all, ok
}

// ThresholdFor returns the largest Distance accepted for target when the
// candidate was encoded by codec ("jpeg", "webp", "avif"; others get
// Threshold's value). ok is false for an unknown target.
func ThresholdFor(target, codec string) (float64, bool) {
	t, ok := thresholds[target]
	if !ok {
		return 0, false
	}
	if v, ok := t.codec[codec]; ok {
		return v, true
	}
	return t.all, true
}
