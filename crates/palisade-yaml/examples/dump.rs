use palisade_yaml::{Node, NodeKind, parse_stream};
fn p(n: &Node<'_>, d: usize) {
    let ind = "  ".repeat(d);
    match &n.kind {
        NodeKind::Scalar(s) => println!("{ind}{} {:?} plain={}", n.pos, s.text, s.plain),
        NodeKind::Seq(items) => {
            println!("{ind}{} SEQ", n.pos);
            for i in items {
                p(i, d + 1);
            }
        }
        NodeKind::Map(es) => {
            println!("{ind}{} MAP", n.pos);
            for e in es {
                println!("{ind} key {:?}@{}", e.key, e.key_pos);
                p(&e.value, d + 2);
            }
        }
    }
}
fn main() {
    let src = std::io::read_to_string(std::io::stdin()).unwrap();
    for d in parse_stream(&src) {
        match d {
            Ok(d) => {
                println!("doc {} start {}", d.index, d.start_line);
                p(&d.root, 1)
            }
            Err(e) => println!("ERR {e:?}"),
        }
    }
}
