// Package addons applies the cluster's add-on manifests (units/addons renders them into the
// first control-plane node's bundle under addons.Dir) to the API server, as `hardway launch`
// does on that node right after the bootstrap RBAC, with the same super-admin credentials.
//
// Objects decodes the manifests (pure, no network: --dry-run prints its result). Client.Apply
// sends each object by server-side apply (field manager "hardway", conflicts forced: hardway
// owns what it renders) through client-go's dynamic client, finding each kind's resource and
// scope by discovery. It is idempotent: the report says for each object whether it was created,
// configured (the server's copy changed), or unchanged (a second apply of the same manifest
// changes no resourceVersion and says so). Being idempotent, Apply repeats itself after a
// failure that may pass, as its retry.Policy says (DefaultRetry: the API server has just come up).
package addons
