// Package inspect reads a control-plane component's command line — from a systemd unit and its
// drop-ins, a static-pod manifest, a running process's /proc/<pid>/cmdline, or plain text —
// explains every flag with the units/flags catalogue, and reports what is wrong: flags,
// admission plugins, feature gates and --runtime-config group/versions that a target version
// refuses, has deprecated or ignores (runtimeconfig.go models how each kube-apiserver minor
// reads --runtime-config), malformed values, settings that
// weaken security (in the spirit of the CIS Kubernetes Benchmark), problems in the files the
// flags point at (missing, too permissive, expired, mismatched keys, untrusted or
// wrong-SAN certificates), the settings that matter in the configuration files some flags name
// (containerd's config.toml and the CNI network it loads, hardway's pod-routes file; a node's
// deliberate host settings such as the cgroupfs driver are explained, not hidden), and
// disagreements between components (the kubelet's and containerd's cgroup drivers among them). Fix migrates a command line to
// a target version (dropping what the binary would refuse) and reports what remains wrong; Diff
// compares two.
//
// The flow is: read the Inputs (paths, directories, PIDs, services) through Sources into
// Invocations (Sources.Read walks directories, finds drop-ins and units, and calls LoadUnit,
// ParseManifest, ParseProcCmdline or ParseCommand); Inspect them against Options (target
// version, time, an fs.FS rooted where the flag paths resolve) into a Report; write it with
// WriteTable or encode it as JSON/YAML. The package never prints, never reads the environment
// or the clock on its own (Options.Now), and reads files only through the fs.FS values it is
// given: Sources.Root and Options.FS are the inspected node's root, so everything a unit or a
// flag points at (EnvironmentFile=, --config, certificates, kubeconfigs) is read there, and so are
// the units and drop-ins of Services; paths named as inputs are read from Sources.Files. Every
// read takes a regular file only, at most MaxFileSize bytes (standard input too): a FIFO, a
// device such as /dev/zero or a link to one is an error naming the file, never a read that
// blocks or exhausts memory. DirFS is the host's file system for these: its Open never blocks
// or opens a device, and below a root other than "/" it follows no link out of the root.
//
// Hand-written parts, because no library offers them: go-systemd's unit package parses the unit
// file syntax (sections, comments, continuation lines), but not what systemd does to an
// ExecStart= value afterwards. SplitCommandLine and ParseExec re-implement that from
// systemd.service(5) and systemd's extract_first_word: quoting anywhere in a word, C escapes,
// the @ - : + ! prefixes, the %n/%N/%p specifiers, and environment substitution as systemd's
// replace_env_argv does it ($NAME alone splits into zero or more words, none when undefined;
// ${NAME} inside a word stays one word, empty when undefined; $$ is a dollar; undefined
// variables are reported). ParseEnvFile reads EnvironmentFile= files with the quoting rules of
// systemd's own parser (env-file.c).
// ParseArgs re-implements the two flag grammars involved — spf13/pflag for Kubernetes
// components and Go's flag package for etcd — because the real parsers stop at the first
// unknown flag, while inspect must report all of them. Line numbers of unit options are
// recovered by a second scan of the text, since go-systemd does not report them.
//
// Wrappers are followed to the component they start (wrapper.go): go-runner (the official
// images' ENTRYPOINT) and sh -c scripts, whose exec'd component is found with a small POSIX
// shell word splitter; a wrapper that cannot be followed is reported as such, never inspected
// as if it were the component. ParseManifest reads static Pods and the pod templates of
// DaemonSets, Deployments and the other workloads, in multi-document files, and expands
// $(VAR) in command and args from the container's env as the kubelet does (kubeenv.go); a
// value the kubelet knows only at run time (a fieldRef such as status.podIP) stays as written
// with its kind (Word.RunTime), and checks do not judge it by its text.
//
// Rules lists every finding ID with its severity; IDs are stable, never reused (RetiredRules),
// and documented in docs/inspect-rules.md (generated, checked by a test). A user accepts a
// finding on purpose with a "# hardway-inspect: ignore <rule-id> <reason>" comment in the unit,
// a drop-in or the manifest (ParseSuppressions), or Options.Ignore for every input: Inspect
// moves such findings to Result.Suppressed / Report.CrossSuppressed with the suppression that
// matched, and Count no longer counts them. One voice per fact: a flag-noop finding is dropped
// when the same flag at the same place draws an error.
package inspect
