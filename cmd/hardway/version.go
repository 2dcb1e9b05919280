package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; otherwise it comes from
// the build info the Go toolchain stamps into the binary (see stampedVersion).
var version = ""

// buildVersion is what 'hardway version' prints.
type buildVersion struct {
	// Version is -ldflags' main.version, else the module version ('go install ...@v1.2.3'),
	// else "devel" with the commit when the build recorded one, else "(devel)".
	Version string `json:"version"`
	// Commit and Modified are the VCS revision the binary was built from and whether the
	// working tree had changes, when the build recorded them (go build -buildvcs).
	Commit   string `json:"commit,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

func (v buildVersion) String() string {
	s := "hardway " + v.Version
	if v.Commit != "" {
		commit := v.Commit
		if len(commit) > 12 {
			commit = commit[:12]
		}
		if v.Modified {
			commit += "-dirty"
		}
		s += " (commit " + commit + ")"
	}
	return s + " " + v.Go + " " + v.Platform
}

// stampedVersion is the version of this binary: override (main.version) when set, else what bi
// records. It is pure so that each case can be tested.
func stampedVersion(override string, bi *debug.BuildInfo) buildVersion {
	v := buildVersion{Version: override, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		if v.Version == "" {
			v.Version = "(devel)"
		}
		return v
	}
	if bi.GoVersion != "" {
		v.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	switch {
	case v.Version != "":
	case bi.Main.Version != "" && bi.Main.Version != "(devel)":
		v.Version = bi.Main.Version
	case v.Commit != "":
		v.Version = "devel"
	default:
		v.Version = "(devel)"
	}
	return v
}

func currentVersion() buildVersion {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return stampedVersion(version, bi)
}

// addVersionFlag gives the root command --version, printing what 'hardway version' prints.
func addVersionFlag(root *cobra.Command) {
	root.Version = currentVersion().String()
	root.SetVersionTemplate("{{.Version}}\n")
}

func newVersionCmd(g *globals) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print hardway's version (-o json|yaml: with the commit, Go version and platform)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := currentVersion()
			return printOutput(g.stdout, output, v, func(w io.Writer) error {
				_, err := fmt.Fprintln(w, v)
				return err
			})
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}
