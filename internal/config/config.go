// Package config resolves each command's settings from, in order of
// precedence: command-line flags, GAMEPULSE_* environment variables, an
// optional YAML config file, and the flag defaults. One flag is one setting:
// the flag --max-body-bytes is GAMEPULSE_MAX_BODY_BYTES in the environment and
// max-body-bytes in the file, so every setting is documented once, by its
// flag's usage text (see Describe).
//
// The config file holds settings shared by every command at the top level and
// a section per command that overrides them:
//
//	brokers: 127.0.0.1:9092
//	gateway:
//	  listen: :8080
//	  max-events: 500
package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// EnvPrefix starts every environment variable gamepulse reads.
const EnvPrefix = "GAMEPULSE_"

// EnvName returns the environment variable for a flag name.
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Resolve parses args into fs (see Parse) and then fills every flag not
// given on the command line from the environment (getenv) or from the config
// file named by the --config flag (or GAMEPULSE_CONFIG). command names the
// file section that applies. Unknown keys in that section are an error;
// unknown top-level keys are ignored, as they may belong to other commands.
func Resolve(fs *flag.FlagSet, command string, args []string, getenv func(string) string) error {
	return ResolveChecked(fs, command, args, getenv, nil)
}

// ResolveChecked is Resolve with check, when not nil, called on each flag
// just after a value is set from any of the three sources (defaults are not
// checked). The error of check is returned as it is for a command-line flag,
// and after the environment variable's or the file's name otherwise.
func ResolveChecked(fs *flag.FlagSet, command string, args []string, getenv func(string) string, check func(*flag.Flag) error) error {
	if check == nil {
		check = func(*flag.Flag) error { return nil }
	}
	if err := Parse(fs, args, check); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	// Environment.
	for _, name := range names(fs) {
		if set[name] {
			continue
		}
		if v, ok := lookup(getenv, EnvName(name)); ok {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("%s: invalid value %q for --%s: %w", EnvName(name), v, name, err)
			}
			if err := check(fs.Lookup(name)); err != nil {
				return fmt.Errorf("%s: %w", EnvName(name), err)
			}
			set[name] = true
		}
	}

	// Config file.
	path := ""
	if f := fs.Lookup("config"); f != nil {
		path = f.Value.String()
	}
	if path == "" {
		return nil
	}
	section, top, err := ReadFile(path, command)
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(section) {
		if fs.Lookup(name) == nil {
			return fmt.Errorf("%s: %s.%s is not a setting of %q (see gamepulse %s --help)", path, command, name, command, command)
		}
	}
	for _, name := range names(fs) {
		if set[name] {
			continue
		}
		v, ok := section[name]
		if !ok {
			v, ok = top[name]
		}
		if ok {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("%s: %s: %w", path, name, err)
			}
			if err := check(fs.Lookup(name)); err != nil {
				return fmt.Errorf("%s: %s: %w", path, name, err)
			}
		}
	}
	return nil
}

// Parse parses args into fs as fs.Parse does, with three differences. Flags
// may follow arguments (gamepulse query "SQL" --format csv); "--" ends the
// flags, and a lone "-" is an argument. An error is one sentence that names
// the flag as users write it, --name, and nothing is printed: -h, -help and
// --help (unless fs defines them) call fs.Usage and return flag.ErrHelp.
// check, when not nil, is called on each flag just after it is set.
func Parse(fs *flag.FlagSet, args []string, check func(*flag.Flag) error) error {
	var positional []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(arg) < 2 || arg[0] != '-' {
			positional = append(positional, arg)
			continue
		}
		name := strings.TrimPrefix(arg[1:], "-")
		if name == "" || name[0] == '-' || name[0] == '=' {
			return fmt.Errorf("bad flag syntax: %s", arg)
		}
		name, value, hasValue := strings.Cut(name, "=")
		f := fs.Lookup(name)
		if f == nil {
			if name == "h" || name == "help" {
				fs.Usage()
				return flag.ErrHelp
			}
			return fmt.Errorf("unknown flag --%s", name)
		}
		if !hasValue {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
				value = "true"
			} else if i+1 < len(args) {
				i++
				value = args[i]
			} else {
				return fmt.Errorf("flag --%s needs a value", name)
			}
		}
		if err := fs.Set(name, value); err != nil {
			return fmt.Errorf("invalid value %q for --%s: %w", value, name, err)
		}
		if check != nil {
			if err := check(f); err != nil {
				return err
			}
		}
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

// ReadFile reads a config file and returns the keys of command's section and
// the top-level keys, both as strings (a list becomes comma-separated).
func ReadFile(path, command string) (section, top map[string]string, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("config file: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, nil, fmt.Errorf("config file %s: %w", path, err)
	}
	section, top = map[string]string{}, map[string]string{}
	for k, v := range doc {
		m, isSection := v.(map[string]any)
		if !isSection {
			if top[k], err = scalar(v); err != nil {
				return nil, nil, fmt.Errorf("config file %s: %s: %w", path, k, err)
			}
			continue
		}
		if k != command {
			continue
		}
		for sk, sv := range m {
			if section[sk], err = scalar(sv); err != nil {
				return nil, nil, fmt.Errorf("config file %s: %s.%s: %w", path, k, sk, err)
			}
		}
	}
	return section, top, nil
}

func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(x), nil
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			s, err := scalar(e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	case nil:
		return "", nil
	}
	return "", errors.New("want a scalar or a list of scalars")
}

func lookup(getenv func(string) string, key string) (string, bool) {
	if getenv == nil {
		return os.LookupEnv(key)
	}
	v := getenv(key)
	return v, v != ""
}

func names(fs *flag.FlagSet) []string {
	var out []string
	fs.VisitAll(func(f *flag.Flag) { out = append(out, f.Name) })
	return out
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Describe returns a Markdown table of a command's settings: flag,
// environment variable, default and meaning. The settings reference
// (docs/settings.md) is made from it.
func Describe(fs *flag.FlagSet) string {
	var b strings.Builder
	b.WriteString("| flag | environment | default | meaning |\n|---|---|---|---|\n")
	fs.VisitAll(func(f *flag.Flag) {
		def := f.DefValue
		if def == "" {
			def = " "
		} else {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `--%s` | `%s` | %s | %s |\n", f.Name, EnvName(f.Name), def, strings.ReplaceAll(f.Usage, "|", "\\|"))
	})
	return b.String()
}
