// Package duration is hardway's one parser for lengths of time that people give in days: the
// certificate validity of the cluster file (validity.ca: 3650d) and --warn-within (30d). It takes
// everything time.ParseDuration takes ("72h", "1h30m", "90s"), optionally preceded by whole days
// ("30d", "1d12h"), and refuses negative values.
//
// Duration implements encoding.TextUnmarshaler, so the cluster file's decoder (and
// encoding/json) reads it through Parse, and pflag's Value (String, Set, Type), so a command's
// flag does too.
package duration
