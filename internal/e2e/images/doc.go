// Package images makes the container images of the node end-to-end tests on this machine, since
// no registry is reachable: the kubelet runs them with imagePullPolicy Never after they are
// imported into containerd's k8s.io namespace.
//
//   - the pod program (internal/e2e/podprogram: pause, serve, get, lookup, echo), built once per
//     test binary, statically, by ProgramBinary and Program;
//   - three images of it and of CoreDNS: PauseImage (the sandbox image, under the name of
//     containerd's sandbox_image setting, PauseRef by default), ProgramImage (ProgramRef) and
//     CoreDNSImage (CoreDNSRef, from the binary scripts/build-coredns.sh builds);
//   - WriteArchive, pure: images → one OCI image-layout tar, with the names `ctr images import`
//     gives them (containerd's io.containerd.image.name annotation);
//   - Import: `ctr images import` into the k8s.io namespace, unpacked for the overlayfs
//     snapshotter the CRI plugin uses.
//
// NodeArchive puts the three images in one archive for a test, which imports it into each
// node's containerd:
//
//	archive := images.NodeArchive(t, images.PauseRef)
//	if err := images.Import(ctx, ctr, "/run/node1/containerd.sock", archive); err != nil {
//		t.Fatal(err)
//	}
package images
