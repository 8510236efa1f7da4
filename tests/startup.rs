//! A node that cannot listen where its config says stops at once and names the address; it never
//! runs on without one of its networks. Stop 39's CI run lost a node at start, most likely to a
//! port taken between the test harness's check and the node's bind (its error was not in the log
//! tail shown). Trying each port by hand: with the gossip port taken the node exited with an empty
//! message, and with the consensus port taken it kept serving its API, deaf to its peers.

mod support;

use std::net::TcpListener;
use std::time::Duration;

use support::Net;

/// How long a node with a taken port may take to give up.
const EXIT_WITHIN: Duration = Duration::from_secs(30);

#[test]
fn a_node_whose_port_is_taken_stops_and_names_it() {
    let mut net = Net::create(1);
    let (api, consensus, gossip) = (net.base_port, net.consensus_port(0), net.gossip_port(0));
    let cases = [
        (api, format!("binding the API to 127.0.0.1:{api}")),
        (consensus, format!("consensus cannot listen on /ip4/127.0.0.1/tcp/{consensus}")),
        (gossip, format!("transaction gossip cannot listen on /ip4/127.0.0.1/tcp/{gossip}")),
    ];
    for (port, expected) in cases {
        let log = net.home(0).join("node.log");
        let _ = std::fs::remove_file(&log);
        let taken = TcpListener::bind(("127.0.0.1", port)).unwrap();
        net.start(0);
        let status = net.wait_exit(0, EXIT_WITHIN);
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        drop(taken);
        let Some(status) = status else {
            net.kill9(0);
            panic!("with port {port} taken the node still runs after {EXIT_WITHIN:?}:\n{text}");
        };
        assert!(!status.success(), "port {port}: {status}");
        assert!(text.contains(&expected), "port {port}: expected {expected:?} in\n{text}");
        assert!(text.contains("Address already in use"), "port {port}: the reason is given:\n{text}");
    }

    // With its ports free the same node starts and finalises.
    let net = tokio::runtime::Runtime::new().unwrap().block_on(Net::started(net));
    drop(net);
}
