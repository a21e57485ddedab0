//! Hostile test rule: `evaluate` allocates 1 MiB blocks and writes to every page of each,
//! keeping them all, until allocation fails (the module then traps, or the host's memory
//! limit stops it first).

use conftrail_rule_sdk::prelude::*;

pub struct MemoryBomb;

impl Rule for MemoryBomb {
    const RESOURCE_TYPES: &'static [&'static str] = &["AWS::EC2::SecurityGroup"];
    const SCREEN_ITEMS: bool = false;

    fn metadata() -> Metadata {
        Metadata::new(
            "test-memory-bomb",
            "1.0.0",
            "Test rule: evaluate allocates until memory runs out.",
        )
    }

    fn evaluate(_ctx: &Context, _item: &Item) -> Result<Evaluation, String> {
        const BLOCK: usize = 1 << 20;
        let mut blocks: Vec<Vec<u8>> = Vec::new();
        loop {
            let mut block: Vec<u8> = Vec::with_capacity(BLOCK);
            // touch every 4 KiB page so the memory is really used
            for page in (0..BLOCK).step_by(4096) {
                block.spare_capacity_mut()[page].write((page >> 12) as u8 | 1);
            }
            unsafe { block.set_len(BLOCK) };
            blocks.push(core::hint::black_box(block));
            core::hint::black_box(&blocks);
        }
    }
}

conftrail_rule_sdk::export_rule!(MemoryBomb);
