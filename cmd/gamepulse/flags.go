package main

import (
	"flag"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gamepulse/gamepulse/internal/config"
	"github.com/gamepulse/gamepulse/internal/engine"
)

func envName(flagName string) string { return config.EnvName(flagName) }

// resolve parses args, then the environment and the config file, for a
// command that takes no arguments besides its flags.
func resolve(fs *flag.FlagSet, env *Env, args []string) error {
	return resolveArgs(fs, env, args, 0)
}

// resolveArgs parses args, then the environment and the config file, for a
// command that takes up to max arguments (any number when max < 0); the
// command checks that it has enough. Flags may come before, between and after
// the arguments; "--" ends them. Every value given is checked against its
// flag's rule (see flagRuleOf and flagChoices) as it is set. All errors but
// flag.ErrHelp are usage errors.
func resolveArgs(fs *flag.FlagSet, env *Env, args []string, max int) error {
	if err := config.ResolveChecked(fs, fs.Name(), args, env.Getenv, checkFlag(fs.Name())); err != nil {
		return asUsage(err)
	}
	return checkArgs(fs, max)
}

// parseArgs parses args into fs, for commands without settings (no
// environment, no config file); see resolveArgs.
func parseArgs(fs *flag.FlagSet, args []string, max int) error {
	if err := config.Parse(fs, args, checkFlag(fs.Name())); err != nil {
		return asUsage(err)
	}
	return checkArgs(fs, max)
}

// checkArgs refuses the arguments past the first max, naming them.
func checkArgs(fs *flag.FlagSet, max int) error {
	if max < 0 || fs.NArg() <= max {
		return nil
	}
	stray := fs.Args()[max:]
	quoted := make([]string, len(stray))
	for i, a := range stray {
		quoted[i] = strconv.Quote(a)
	}
	if len(stray) == 1 {
		return usagef("unexpected argument %s", quoted[0])
	}
	return usagef("unexpected arguments %s", strings.Join(quoted, " "))
}

// checkFlag returns the check of each flag value of command: a flag with
// choices (flagChoices) takes one of them, a numeric flag obeys its rule
// (flagRuleOf), --log-level is a level.
func checkFlag(command string) func(*flag.Flag) error {
	return func(f *flag.Flag) error {
		if accepted := flagChoices(command, f.Name); accepted != nil {
			return checkChoice(f.Name, f.Value.String(), accepted...)
		}
		if f.Name == "log-level" {
			var level slog.Level
			if err := level.UnmarshalText([]byte(f.Value.String())); err != nil {
				return usagef("--log-level must be debug, info, warn or error, got %q", f.Value.String())
			}
		}
		if r, ok := flagRuleOf(command, f.Name); ok {
			return r.check(f)
		}
		return nil
	}
}

// checkChoice returns a usage error unless value is one of accepted:
// "--format must be table, csv or json, got "yaml"".
func checkChoice(flagName, value string, accepted ...string) error {
	if slices.Contains(accepted, value) {
		return nil
	}
	list := strings.Join(accepted, ", ")
	if n := len(accepted); n > 1 {
		list = strings.Join(accepted[:n-1], ", ") + " or " + accepted[n-1]
	}
	return usagef("--%s must be %s, got %q", flagName, list, value)
}

// flagChoices returns the values a command's flag accepts, when they are a
// fixed list; nil otherwise.
func flagChoices(command, flagName string) []string {
	switch flagName {
	case "log-format":
		return []string{"text", "json"}
	case "delivery":
		return []string{string(engine.ExactlyOnce), string(engine.AtLeastOnce)}
	case "raw-encoding":
		return []string{"protobuf", "json"}
	}
	switch command + " " + flagName {
	case "simulate format", "demo format", "loadtest format":
		return []string{"json", "ndjson", "protobuf"}
	case "reconcile format":
		return []string{"table", "json"}
	case "doctor format":
		return []string{"text", "json"}
	case "topics format":
		return []string{"table", "json"}
	case "tail isolation":
		return []string{"read_committed", "read_uncommitted"}
	case "query format", "kpis format":
		return outputFormatList
	case "dashboards format":
		return []string{"text", "rules"}
	case "process engine":
		return []string{engineGo, engineSpark}
	case "process spark-starting-offsets":
		return []string{"earliest", "latest"}
	}
	return nil
}

// flagRule is the range of values a numeric flag accepts.
type flagRule struct {
	min, max   float64 // inclusive, in the flag's unit (nanoseconds for durations)
	orMinusOne bool    // -1 is accepted too
	text       string  // the rule as the error states it: "≥ 0"
}

var (
	anyNumber      = flagRule{min: -math.MaxFloat64, max: math.MaxFloat64, text: "a number"}
	nonNegative    = flagRule{min: 0, max: math.MaxFloat64, text: "≥ 0"}
	atLeastOne     = flagRule{min: 1, max: math.MaxFloat64, text: "≥ 1"}
	positive       = flagRule{min: math.SmallestNonzeroFloat64, max: math.MaxFloat64, text: "> 0"}
	share          = flagRule{min: 0, max: 1, text: "between 0 and 1"}
	percent        = flagRule{min: 0, max: 100, text: "between 0 and 100"}
	replicas       = flagRule{min: 1, max: math.MaxFloat64, orMinusOne: true, text: "≥ 1, or -1 for the broker's default"}
	partitionOrAll = flagRule{min: 0, max: math.MaxFloat64, orMinusOne: true, text: "≥ 0, or -1 for all"}
)

// flagRuleOf returns the rule of a command's numeric flag. Every numeric flag
// has one (a test fails otherwise): a name shared by several commands has
// one rule unless a command needs its own.
func flagRuleOf(command, flagName string) (flagRule, bool) {
	switch command + " " + flagName {
	case "loadtest duration":
		return positive, true // 0 would measure nothing
	}
	switch flagName {
	case "seed":
		return anyNumber, true
	case "replication":
		return replicas, true
	case "partition":
		return partitionOrAll, true
	case "duplicates", "late", "malformed", "max-error-rate":
		return share, true
	case "alert-drop-percent":
		return percent, true
	case "lookback", "timeout", "drain-timeout", "max-past", "produce-timeout", "retry-after", "spark-poll-interval":
		return positive, true
	case "max-body-bytes", "max-decompressed-bytes", "max-events", "max-event-bytes", "max-depth", "max-pending-events",
		"batch-size", "batch-rows", "batch-bytes", "concurrency", "events", "partitions", "max-poll-records", "alert-history":
		return atLeastOne, true
	case "last", "max", "progress-every", "rate", "count", "duration", "players", "gateway-pid", "max-differences", "warmup", "every", "settle",
		"faults-after", "kafka-outage", "stall-loader", "reconcile-every", "spark-trigger", "spark-max-offsets-per-trigger",
		// the gateway's (gateway.Config.Validate checks how they relate)
		"rate-limit", "rate-burst", "max-future", "shutdown-grace",
		// the processor and the loader
		"allowed-lateness", "dedup-horizon", "session-gap", "max-event-future", "fraud-max-purchases", "idle-timeout",
		"retention", "txn-timeout", "session-timeout", "alert-active-floor", "alert-revenue-floor-micros",
		"alert-refund-factor", "alert-refund-floor", "batch-interval", "load-session-timeout", "warehouse-auto-suspend":
		return nonNegative, true
	}
	return flagRule{}, false
}

// check refuses f's value unless it is within the rule:
// "--rate must be ≥ 0, got -5".
func (r flagRule) check(f *flag.Flag) error {
	v, ok := numberOf(f)
	if !ok || (r.orMinusOne && v == -1) || (v >= r.min && v <= r.max) { // NaN is in no range
		return nil
	}
	return usagef("--%s must be %s, got %s", f.Name, r.text, f.Value.String())
}

// numberOf returns the value of a numeric flag (int, int64, uint, uint64,
// float64 or time.Duration); ok is false for any other flag.
func numberOf(f *flag.Flag) (v float64, ok bool) {
	g, isGetter := f.Value.(flag.Getter)
	if !isGetter {
		return 0, false
	}
	switch x := g.Get().(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	case time.Duration:
		return float64(x), true
	}
	return 0, false
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// fieldFlags maps, for each component whose Validate names Config fields
// ("gateway: MaxEvents must be ≥ 1, got 0"), a field to the flag that sets
// it. Main rewrites the errors it returns with it, so that users read
// "gateway: --max-events must be ≥ 1, got 0". It is the one place where a
// library's setting meets its flag.
var fieldFlags = map[string]map[string]string{
	"gateway": {
		"Listen": "--listen", "MaxBodyBytes": "--max-body-bytes", "MaxDecompressedBytes": "--max-decompressed-bytes",
		"MaxEvents": "--max-events", "MaxEventBytes": "--max-event-bytes", "MaxDepth": "--max-depth",
		"MaxPast": "--max-past", "MaxFuture": "--max-future", "RateLimit": "--rate-limit", "RateBurst": "--rate-burst",
		"MaxPendingEvents": "--max-pending-events", "ProduceTimeout": "--produce-timeout", "RetryAfter": "--retry-after",
		"CORSOrigins": "--cors-origins", "Topic": "--topic-raw",
		"Keys": "GAMEPULSE_API_KEYS=key=game_id,... or --api-keys-file",
	},
	"kafka": {
		"Brokers": "--brokers", "SASLUser": "--kafka-sasl-user", "TLSCertFile": "--kafka-tls-cert", "TLSKeyFile": "--kafka-tls-key",
		"Partitions": "--partitions", "Replication": "--replication", "Raw": "--topic-raw", "DeadLetter": "--topic-deadletter",
	},
	"broker": {"Listen": "--listen"},
	"loader": {
		"Group": "--load-group", "BatchRows": "--batch-rows", "BatchBytes": "--batch-bytes", "BatchInterval": "--batch-interval",
		"SessionTimeout": "--load-session-timeout", "AutoSuspend": "--warehouse-auto-suspend",
	},
}

var fieldWord = regexp.MustCompile(`\b[A-Z][A-Za-z]*\b`)

// flagError is an error whose message names flags where the component's
// named Config fields; it unwraps to the original.
type flagError struct {
	msg string
	err error
}

func (e *flagError) Error() string { return e.msg }
func (e *flagError) Unwrap() error { return e.err }

// withFlagNames rewrites the Config fields that err's message names, after
// a "component: " of fieldFlags, into the flags that set them.
func withFlagNames(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	out := msg
	for component, flags := range fieldFlags {
		i := strings.Index(out, component+": ")
		if i < 0 {
			continue
		}
		head, tail := out[:i], out[i:]
		out = head + fieldWord.ReplaceAllStringFunc(tail, func(w string) string {
			if f, ok := flags[w]; ok {
				return f
			}
			return w
		})
	}
	if out == msg {
		return err
	}
	return &flagError{msg: out, err: err}
}
