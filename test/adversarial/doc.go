// Package adversarial attacks the built host the way a hostile web page, a
// hostile image or a hostile local program could, and checks that every
// attack is refused with a clear error while the host keeps serving.
//
// The tests build the real host binary and drive it through pipes exactly
// as a browser does. On Linux, when unprivileged user and network
// namespaces are available, the whole test binary re-runs itself inside a
// fresh network namespace with no route to anywhere: public-looking and
// private addresses are bound to its loopback interface, so a test can
// serve a "public" page and prove that nothing reached a private target,
// and no packet can leave the machine even if a defence fails.
package adversarial
