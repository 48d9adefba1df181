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
	// butteraugli ≤ 1.0
	TargetHigh: {all: 0.2578, codec: map[string]float64{"jpeg": 0.2578, "webp": 0.4047, "avif": 0.2639}},
	// butteraugli ≤ 1.4
	TargetBalanced: {all: 0.4442, codec: map[string]float64{"jpeg": 0.5492, "webp": 0.5782, "avif": 0.4442}},
	// butteraugli ≤ 2.2
	TargetSmall: {all: 0.7328, codec: map[string]float64{"jpeg": 0.7907, "webp": 0.7559, "avif": 0.7328}},
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
