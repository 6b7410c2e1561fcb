//go:build unix

package node

import (
	"syscall"
	"testing"
	"time"
)

// reportCPU adds the metric cpu-ns/op to a benchmark: the process's CPU
// time (user and system) per operation from here to the end of the
// benchmark. On a machine shared with other work it moves less than the
// wall time does, and for work spread over several cores it is the cost
// that bounds throughput.
func reportCPU(b *testing.B) {
	start := cpuTime()
	b.Cleanup(func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		}
	})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
