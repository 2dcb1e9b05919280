package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/hardway-dev/hardway/configs"
	"github.com/hardway-dev/hardway/internal/duration"
	"github.com/hardway-dev/hardway/internal/problem"
	"github.com/hardway-dev/hardway/units"
)

// configFlags are the cluster settings that can also be given on the command line; each maps
// to the config key of the same meaning. HARDWAY_<KEY> (upper case, '.' as '_') sets any
// scalar key from the environment, e.g. HARDWAY_KEYALGORITHM=rsa-2048 or HARDWAY_APIENDPOINT_HOST.
var configFlags = []struct{ flag, key, usage string }{
	{"key-algorithm", "keyAlgorithm", "key algorithm: " + strings.Join(configs.KeyAlgorithms, ", ")},
	{"kubernetes-version", "kubernetesVersion", "Kubernetes minor version the units target"},
	{"encryption-provider", "encryption.provider", "encryption provider for secrets: " + strings.Join(configs.EncryptionProviders, ", ")},
	{"api-endpoint", "apiEndpoint.host", "API endpoint host (load balancer address or name)"},
}

func addConfigFlags(fs *pflag.FlagSet) {
	for _, f := range configFlags {
		fs.String(f.flag, "", f.usage)
	}
}

// loadCluster reads the cluster model: the file, then HARDWAY_* variables, then flags; unknown
// keys are errors; defaults are applied and the result validated. Warnings go to the log.
func loadCluster(g *globals, fs *pflag.FlagSet) (*configs.Cluster, error) {
	if g.configFile == "" {
		return nil, usagef("--config is required: the cluster file, e.g. --config configs/examples/single.yaml")
	}
	c, err := decodeCluster(g.configFile, fs, os.Environ())
	if err != nil {
		return nil, err
	}
	c.SetDefaults()
	ps := c.Validate()
	if ps.Err() == nil {
		// The extra flags against the flag catalogue and what hardway sets itself.
		ps = append(ps, units.CheckExtras(c)...)
	}
	for _, w := range ps.Warnings() {
		g.log.Warn(w.String(), "file", g.configFile)
	}
	if err := ps.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", g.configFile, err)
	}
	return c, nil
}

func decodeCluster(file string, fs *pflag.FlagSet, environ []string) (*configs.Cluster, error) {
	dec := &yamlDecoder{}
	v := viper.NewWithOptions(viper.WithDecoderRegistry(clusterFileDecoders{dec}))
	v.SetConfigFile(file)
	v.SetConfigType("yaml")
	if err := v.ReadInConfig(); err != nil {
		var nf viper.ConfigFileNotFoundError
		if errors.As(err, &nf) || errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such file; give --config the path of a cluster file (see configs/examples)", file)
		}
		// yaml errors carry "line N"; keep them and name the file.
		return nil, fmt.Errorf("%s: not valid YAML: %s", file, strings.TrimPrefix(unwrapAll(err).Error(), "yaml: "))
	}
	env := map[string]string{}
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "HARDWAY_") {
			env[k] = val
		}
	}
	for _, key := range scalarKeys(reflect.TypeOf(configs.Cluster{}), "") {
		name := "HARDWAY_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		if val, ok := env[name]; ok {
			v.Set(key, val)
		}
	}
	if fs != nil {
		for _, f := range configFlags {
			if fl := fs.Lookup(f.flag); fl != nil && fl.Changed {
				v.Set(f.key, fl.Value.String())
			}
		}
	}
	// viper folds keys to lower case and mapstructure matches them in any case, so the file's
	// keys are checked as written first: serviceCidr is not serviceCIDR.
	ps := checkKeys(dec.doc, reflect.TypeFor[configs.Cluster](), "")
	var c configs.Cluster
	err := v.UnmarshalExact(&c, func(dc *mapstructure.DecoderConfig) {
		dc.ErrorUnused = true
		dc.DecodeHook = mapstructure.ComposeDecodeHookFunc(durationHook, wholeNumberHook, mapstructure.StringToSliceHookFunc(","))
	})
	if err != nil {
		for _, p := range decodeProblems(err) {
			// checkKeys reported the unknown keys, as written.
			if !(len(ps) > 0 && strings.HasPrefix(p.Message, "unknown key(s): ")) {
				ps = append(ps, p)
			}
		}
	}
	if err := ps.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := keepCase(file, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// checkKeys walks the cluster file's YAML (n) against the type it decodes into (t, at path)
// and reports what viper cannot: a key that names no field exactly as written (viper folds
// case), with the field it was probably meant to be, and a plain scalar that YAML reads as
// a number or a boolean where a string goes and that would not read back as written
// (kubernetesVersion: 1.30 is the number 1.3). Maps' keys are free; their values are checked.
func checkKeys(n *yaml.Node, t reflect.Type, path string) problem.List {
	if n == nil {
		return nil
	}
	for n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	join := func(key string) string {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	var ps problem.List
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode && !reflect.PointerTo(t).Implements(reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()):
		fields := map[string]reflect.StructField{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if tag, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ","); tag != "" && tag != "-" {
				fields[tag] = f
				names = append(names, tag)
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Value == "<<" { // a merge key: its mapping's keys are this one's
				ps = append(ps, checkKeys(val, t, path)...)
				continue
			}
			f, ok := fields[k.Value]
			if !ok {
				fix := "check the key names against 'hardway config print-defaults' or configs/examples"
				if hint := didYouMean(k.Value, names, asIs); hint != "" {
					fix = strings.TrimPrefix(hint, "; ")
				}
				ps = append(ps, problem.Errorf(join(k.Value), fix, "unknown key (line %d)", k.Line))
				continue
			}
			ps = append(ps, checkKeys(val, f.Type, join(k.Value))...)
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			ps = append(ps, checkKeys(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			ps = append(ps, checkKeys(n.Content[i+1], t.Elem(), join(n.Content[i].Value))...)
		}
	case t.Kind() == reflect.String && n.Kind == yaml.ScalarNode && n.Style == 0 && !strings.HasPrefix(path, "extraArgs."):
		// (extraArgs' values are flag values, read again as written by keepCase.)
		if read, changed := readAsString(n); changed {
			ps = append(ps, problem.Errorf(path, fmt.Sprintf("quote it: %s: %q", lastKey(path), n.Value),
				"%s is read as the %s %s, not as written (line %d)", n.Value, map[string]string{"!!float": "number", "!!int": "number", "!!bool": "boolean"}[n.ShortTag()], read, n.Line))
		}
	}
	return ps
}

// readAsString is the string a plain YAML scalar becomes in a string field (mapstructure's weak
// conversion of the number or boolean YAML reads), and whether that differs from the text.
func readAsString(n *yaml.Node) (string, bool) {
	var read string
	switch n.ShortTag() {
	case "!!float":
		var f float64
		if n.Decode(&f) != nil {
			return "", false
		}
		read = strconv.FormatFloat(f, 'f', -1, 64)
	case "!!int":
		var i int64
		if n.Decode(&i) != nil {
			return "", false
		}
		read = strconv.FormatInt(i, 10)
	case "!!bool":
		var b bool
		if n.Decode(&b) != nil {
			return "", false
		}
		read = map[bool]string{true: "1", false: "0"}[b]
	default:
		return "", false
	}
	return read, read != n.Value
}

// lastKey is the last key of a dotted path: "nodes[0].podCIDR" -> "podCIDR".
func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		path = path[i+1:]
	}
	if i := strings.IndexByte(path, '['); i >= 0 {
		path = path[:i]
	}
	return path
}

// keepCase reads again, from the cluster file itself, the settings whose keys are
// case-sensitive, which viper lower-cases (feature gates such as InPlacePodVerticalScaling, label
// keys), and the extra flags' values as written (viper would turn a YAML true into "1").
func keepCase(file string, c *configs.Cluster) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var doc struct {
		ExtraArgs             map[string]map[string]yaml.Node `yaml:"extraArgs"`
		FeatureGates          map[string]bool                 `yaml:"featureGates"`
		ComponentFeatureGates map[string]map[string]bool      `yaml:"componentFeatureGates"`
		Nodes                 []struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"nodes"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if doc.ExtraArgs != nil {
		c.ExtraArgs = map[string]map[string]string{}
		for comp, args := range doc.ExtraArgs {
			c.ExtraArgs[comp] = map[string]string{}
			for name, v := range args {
				if v.Kind != yaml.ScalarNode {
					return fmt.Errorf("%s: extraArgs.%s.%s: line %d: a flag's value is one word, not a list or a map; write a list as a,b,c", file, comp, name, v.Line)
				}
				c.ExtraArgs[comp][name] = v.Value
			}
		}
	}
	if doc.FeatureGates != nil {
		c.FeatureGates = doc.FeatureGates
	}
	if doc.ComponentFeatureGates != nil {
		c.ComponentFeatureGates = doc.ComponentFeatureGates
	}
	if len(doc.Nodes) == len(c.Nodes) {
		for i, n := range doc.Nodes {
			if n.Labels != nil {
				c.Nodes[i].Labels = n.Labels
			}
		}
	}
	return nil
}

// durationHook reads every duration of the cluster file with the one parser, internal/duration
// ("3650d", "1d12h", "720h"); a bare number, which mapstructure would take for nanoseconds, is
// refused. It replaces viper's default hook for time.Duration, so nothing else parses durations.
func durationHook(_, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeFor[duration.Duration]() {
		return data, nil
	}
	s, ok := data.(string)
	if !ok {
		return nil, fmt.Errorf("%v has no unit; use a duration such as 30d, 1d12h or 72h", data)
	}
	return duration.Parse(s)
}

// wholeNumberHook reads the cluster file's whole numbers (apiEndpoint.port): a number an int
// cannot hold is an error quoting it as written, where mapstructure would wrap it
// (99999999999999999999 became -9223372036854775808) or drop a fraction (6443.5 became 6443).
// The range a field allows is Validate's business; this only keeps the number intact.
func wholeNumberHook(_, to reflect.Type, data any) (any, error) {
	if to.Kind() != reflect.Int {
		return data, nil
	}
	outOfRange := func(written string) error {
		return fmt.Errorf("%s is out of range: far beyond any setting (a port is 1 to 65535)", written)
	}
	switch n := data.(type) {
	case string: // the environment, a flag, or a number too long for YAML's integers (bigIntegerLiteral)
		i, err := strconv.ParseInt(strings.TrimSpace(n), 10, 0)
		switch {
		case errors.Is(err, strconv.ErrRange):
			return nil, outOfRange(n)
		case err != nil:
			return nil, fmt.Errorf("%q is not a whole number", n)
		}
		return int(i), nil
	case uint64:
		if n > math.MaxInt {
			return nil, outOfRange(strconv.FormatUint(n, 10))
		}
		return int(n), nil
	case float64:
		if n != math.Trunc(n) {
			return nil, fmt.Errorf("%s is not a whole number", strconv.FormatFloat(n, 'f', -1, 64))
		}
		if n < math.MinInt || n >= math.MaxInt {
			return nil, outOfRange(strconv.FormatFloat(n, 'g', -1, 64))
		}
		return int(n), nil
	}
	return data, nil
}

// clusterFileDecoders gives viper the one YAML decoder of the cluster file, yamlDecoder.
type clusterFileDecoders struct{ dec *yamlDecoder }

func (d clusterFileDecoders) Decoder(format string) (viper.Decoder, error) {
	if format != "yaml" {
		return nil, fmt.Errorf("the cluster file is YAML, not %s", format)
	}
	return d.dec, nil
}

// yamlDecoder decodes as viper's own YAML decoder does (go.yaml.in/yaml/v3 into a map), but
// keeps an integer too long for 64 bits as the digits written: YAML would make it a float
// (99999999999999999999 becomes 1e+20), and an error could no longer quote it. It keeps the
// document it decoded, with the keys as written, for checkKeys.
type yamlDecoder struct{ doc *yaml.Node }

// bigIntegerLiteral is a plain integer; YAML resolves it as a float only when it is too long.
var bigIntegerLiteral = regexp.MustCompile(`^[-+]?[0-9]+$`)

func (d *yamlDecoder) Decode(b []byte, v map[string]any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return err
	}
	if doc.Kind == 0 { // an empty file
		return nil
	}
	var keep func(*yaml.Node)
	keep = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode && n.Style == 0 && n.ShortTag() == "!!float" && bigIntegerLiteral.MatchString(n.Value) {
			n.Tag = "!!str"
		}
		for _, c := range n.Content {
			keep(c)
		}
	}
	keep(&doc)
	d.doc = &doc
	return doc.Decode(&v)
}

// scalarKeys lists the dotted keys of every scalar field, for the HARDWAY_* environment.
func scalarKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		if tag == "" || tag == "-" {
			continue
		}
		key := prefix + tag
		switch f.Type.Kind() {
		case reflect.Struct:
			keys = append(keys, scalarKeys(f.Type, key+".")...)
		case reflect.Slice:
			// lists (nodes, SANs) come from the file only
		default:
			keys = append(keys, key)
		}
	}
	return keys
}

// decodeProblems lists what the decoder found wrong, key by key: "validity.leaf: ...",
// "nodes[0]: unknown key(s): role".
func decodeProblems(err error) problem.List {
	var ps problem.List
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		de, ok := e.(*mapstructure.DecodeError)
		if !ok {
			if u := errors.Unwrap(e); u != nil {
				walk(u)
			} else {
				ps = append(ps, problem.Errorf("", "", "%v", e))
			}
			return
		}
		inner := de.Unwrap()
		if _, nested := inner.(interface{ Unwrap() []error }); nested || errors.As(inner, new(*mapstructure.DecodeError)) {
			walk(inner)
		} else if keys, unknown := strings.CutPrefix(inner.Error(), "has invalid keys: "); unknown {
			ps = append(ps, problem.Errorf(de.Name(), "check the key names against configs/examples", "unknown key(s): %s", keys))
		} else {
			ps = append(ps, problem.Errorf(de.Name(), "", "%v", inner))
		}
	}
	walk(err)
	return ps
}

func unwrapAll(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}
