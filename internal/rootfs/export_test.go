package rootfs

// WithoutOpenat2 runs f as on a kernel without openat2, so the component-wise walk is tested
// too.
func WithoutOpenat2(f func()) {
	was := openat2Works
	openat2Works = false
	defer func() { openat2Works = was }()
	f()
}
