package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/hardway-dev/hardway/bootstrap/release"
)

func init() { register(newBinariesCmd) }

func newBinariesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "binaries",
		Short: "Get the upstream Kubernetes binaries a cluster runs",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newBinariesFetchCmd(g))
	return cmd
}

// defaultBinariesDest is where fetched binaries are kept: /var/cache/hardway/binaries for
// root, the user's cache directory otherwise ($XDG_CACHE_HOME or ~/.cache, then
// hardway/binaries).
func defaultBinariesDest() string {
	if os.Geteuid() == 0 {
		return "/var/cache/hardway/binaries"
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "hardway", "binaries")
	}
	return filepath.Join(".", "hardway-binaries")
}

func newBinariesFetchCmd(g *globals) *cobra.Command {
	o := release.Options{}
	cmd := &cobra.Command{
		Use:   "fetch --version X.Y.Z [--arch amd64|arm64] [--dest DIR] [--base-url URL]",
		Short: "Download " + strings.Join(release.Binaries, ", ") + " and verify each against its published SHA-512",
		Long: `binaries fetch downloads the Kubernetes release binaries from the official release
location (` + release.DefaultBaseURL + `/vX.Y.Z/bin/linux/ARCH/NAME) or a mirror with the same
layout (--base-url), and checks each against the SHA-512 published beside it (NAME.sha512)
while it streams to disk. A binary is kept only when the whole file arrived and its digest
matches: a mismatch, a cut connection or a missing checksum leaves nothing behind.

They are kept by version, in DEST/vX.Y.Z/linux-ARCH/ (mode 0755, each with the checksum it was
checked against); DEST defaults to /var/cache/hardway/binaries for root and to the user's cache
directory (~/.cache/hardway/binaries) otherwise. A binary already kept whose content matches
its checksum is not downloaded again. Give that directory to 'hardway init --with-binaries' so
the node bundles carry the binaries.

The checksum proves the file is the one published, intact; not who published it: it comes
from the same place as the binary. Offline, scripts/build-kube.sh builds the same binaries from
the Go modules.`,
		Example: "  hardway binaries fetch --version 1.37.2\n  hardway binaries fetch --version 1.37.2 --arch arm64 --dest ./bin --base-url https://mirror.example/kubernetes-release",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Version == "" {
				return usagef("--version is required: the Kubernetes release, such as 1.37.2")
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			o.Done = func(f release.File) {
				switch f.Action {
				case release.Present:
					fmt.Fprintf(g.stdout, "present %s (already kept, sha512 %s… matches)\n", f.Path, f.SHA512[:16])
				default:
					fmt.Fprintf(g.stdout, "fetched %s (%d bytes, sha512 %s… verified against %s%s)\n", f.Path, f.Size, f.SHA512[:16], f.URL, release.ChecksumSuffix)
				}
			}
			files, err := release.Fetch(ctx, o)
			if err != nil {
				return err
			}
			if len(files) > 0 {
				fmt.Fprintf(g.stdout, "binaries in %s; give it to `hardway init --with-binaries`\n", filepath.Dir(files[0].Path))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Version, "version", "", "the Kubernetes release to fetch, such as 1.37.2 (required)")
	f.StringVar(&o.Arch, "arch", runtime.GOARCH, "the architecture: "+strings.Join(release.Arches, " or "))
	f.StringVar(&o.Dest, "dest", defaultBinariesDest(), "keep the binaries in DEST/vX.Y.Z/linux-ARCH/")
	f.StringVar(&o.BaseURL, "base-url", release.DefaultBaseURL, "the release location or a mirror with its layout (<base>/vX.Y.Z/bin/linux/<arch>/<name>)")
	f.StringSliceVar(&o.Names, "only", nil, "fetch only these binaries (default: all of "+strings.Join(release.Binaries, ",")+")")
	return cmd
}
