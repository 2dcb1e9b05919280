package main

import (
	"github.com/spf13/cobra"
)

// outputFormats are the values every -o/--output flag takes.
var outputFormats = []string{"table", "json", "yaml"}

// addOutputFlag gives cmd the -o/--output flag that printOutput reads.
func addOutputFlag(cmd *cobra.Command, output *string) {
	cmd.Flags().StringVarP(output, "output", "o", "table", "output format: table, json or yaml")
}
