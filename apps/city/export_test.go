package city

import (
	"context"
	"time"

	"github.com/spf13/cobra"
)

// SimCommandWithWait is SimCommand with a wait function, so that tests
// run the simulator on a fake clock without sleeping.
func SimCommandWithWait(cfg SimConfig, wait func(context.Context, time.Duration) error) *cobra.Command {
	cfg.Wait = wait
	return SimCommand(cfg)
}
