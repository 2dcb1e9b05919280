package pki

// Select resolves the names `hardway certs renew` takes into the IDs of the instances they
// name: "all" is every leaf certificate (not the CAs, not the service-account key pair); any
// other name is what Find matches (an instance ID, a catalogue name for each of its instances,
// a kubeconfig name). The first unknown name is an error.
func Select(all []Instance, names []string) (map[string]bool, error) {
	ids := map[string]bool{}
	for _, n := range names {
		if n == "all" {
			for _, in := range all {
				if in.Spec.Kind == KindLeaf {
					ids[in.ID] = true
				}
			}
			continue
		}
		found, err := Find(all, n)
		if err != nil {
			return nil, err
		}
		for _, in := range found {
			ids[in.ID] = true
		}
	}
	return ids, nil
}
