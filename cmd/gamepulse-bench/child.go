package main

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// child is a gamepulse process the harness runs and measures.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when it exited
	err  error         // its exit error, once done
}

// startChild starts bin with args, its output on stderr.
func startChild(name, bin string, args []string, stderr io.Writer) (*child, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, done: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// watch returns a context cancelled, with the exit as its cause, when the
// child exits before the caller is done with it.
func (c *child) watch(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-c.done:
			cancel(fmt.Errorf("%s exited early: %v", c.name, c.err))
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(context.Canceled) }
}

// stop sends SIGTERM (the Spark engine then stops its queries) and waits
// up to a minute before killing it.
func (c *child) stop() error {
	select {
	case <-c.done:
		return c.err
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return c.err
	case <-time.After(time.Minute):
		c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s did not stop within a minute of SIGTERM: killed", c.name)
	}
}

// cause returns ctx's cancellation cause, or err.
func cause(ctx context.Context, err error) error {
	if c := context.Cause(ctx); c != nil && err != nil {
		return fmt.Errorf("%w (%v)", err, c)
	}
	return err
}

// countRecords counts the data records of topic (read_committed, up to the
// last stable offsets when it starts; transaction markers not counted).
func countRecords(ctx context.Context, opts []kgo.Opt, topic string) (int64, error) {
	cl, err := kgo.NewClient(append(append([]kgo.Opt{}, opts...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords())...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	var n int64
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("count the records of %s: %w", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := left[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			if !r.Attrs.IsControl() {
				n++
			}
			if r.Offset+1 >= end {
				delete(left, r.Partition)
			}
		})
	}
	return n, nil
}
