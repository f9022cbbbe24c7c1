package sparkjobs

import (
	"context"
	"fmt"
)

// Session is what Run needs of a Spark Connect session (internal/
// sparkconnect's Client has these methods).
type Session interface {
	Conf(ctx context.Context, conf map[string]string) error
	CreateStreamView(ctx context.Context, name, format string, options map[string]string) error
	CreateView(ctx context.Context, name, query string) error
	// CreateDedupView registers name as input.dropDuplicatesWithinWatermark(columns).
	CreateDedupView(ctx context.Context, name, input string, columns []string) error
}

// Run applies steps in order on s: the settings and the views, and for
// each Query step it calls start (which starts the query with the
// client's API and may first look for a running query of that name, to
// reattach to it). It stops at the first error, naming the step.
func Run(ctx context.Context, s Session, steps []Step, start func(context.Context, Step) error) error {
	for _, st := range steps {
		var err error
		switch st.Kind {
		case Conf:
			err = s.Conf(ctx, st.Conf)
		case StreamView:
			err = s.CreateStreamView(ctx, st.Name, st.Format, st.Options)
		case View:
			err = s.CreateView(ctx, st.Name, st.SQL)
		case DedupView:
			err = s.CreateDedupView(ctx, st.Name, st.Input, st.Columns)
		case Query:
			err = start(ctx, st)
		default:
			err = fmt.Errorf("unknown step kind %d", int(st.Kind))
		}
		if err != nil {
			if st.File != "" {
				return fmt.Errorf("sparkjobs: %s %s (sql/%s): %w", st.Kind, st.Name, st.File, err)
			}
			return fmt.Errorf("sparkjobs: %s %s: %w", st.Kind, st.Name, err)
		}
	}
	return nil
}
