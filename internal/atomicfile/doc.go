// Package atomicfile writes files so that a reader, or a crash, never sees half of one:
// the bytes go to a temporary file in the same directory, which is chmod-ed, fsync-ed,
// closed and renamed over the target; the directory is then fsync-ed so the rename survives a
// power loss. It is the only way hardway writes a managed file. Batch does the same for many
// files at once with two filesystem syncs instead of one per file.
//
// Crash tests stop a real process at a chosen Step of its writes through SetTestHook, the
// writer's own hook, rather than with timed signals.
package atomicfile
