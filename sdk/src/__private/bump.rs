//! The allocator of every plugin: each call runs in a fresh instance that is
//! thrown away afterwards, so freeing memory is wasted work. Allocation
//! bumps a pointer; `dealloc` does nothing; the last block grows in place.
//! A call that allocates past its memory cap traps and is reported as such.

#![allow(unsafe_code)]

use core::alloc::{GlobalAlloc, Layout};
use core::cell::Cell;
use core::ptr::null_mut;

const PAGE: usize = 65536;
/// Grow linear memory at least this much at a time (1 MiB).
const MIN_GROW_PAGES: usize = 16;

pub struct Bump {
    next: Cell<usize>,
    end: Cell<usize>,
    last: Cell<usize>,
}

// SAFETY: plugins are single-threaded wasm32 instances.
unsafe impl Sync for Bump {}

impl Bump {
    pub const fn new() -> Bump {
        Bump { next: Cell::new(0), end: Cell::new(0), last: Cell::new(0) }
    }

    /// Starts with the free space the linker leaves between the static data
    /// and the end of the initial memory: most calls never grow memory, and
    /// a grow costs the host a system call.
    fn init(&self) {
        if self.end.get() == 0 {
            unsafe extern "C" {
                static __heap_base: u8;
            }
            // The linker defines __heap_base; only its address is taken.
            let base = core::ptr::addr_of!(__heap_base) as usize;
            self.next.set(base);
            self.end.set(core::arch::wasm32::memory_size(0) * PAGE);
        }
    }

    fn grow(&self, at_least: usize) -> bool {
        let pages = at_least.div_ceil(PAGE).max(MIN_GROW_PAGES);
        let prev = core::arch::wasm32::memory_grow(0, pages);
        if prev == usize::MAX {
            return false;
        }
        let base = prev * PAGE;
        if base != self.end.get() {
            // Someone else grew memory in between: start over at the new block.
            self.next.set(base);
        }
        self.end.set(base + pages * PAGE);
        true
    }
}

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.init();
        let align = layout.align();
        let mut start = (self.next.get() + align - 1) & !(align - 1);
        let mut end = match start.checked_add(layout.size()) {
            Some(e) => e,
            None => return null_mut(),
        };
        if end > self.end.get() {
            if !self.grow(layout.size() + align) {
                return null_mut();
            }
            start = (self.next.get() + align - 1) & !(align - 1);
            end = start + layout.size();
        }
        self.next.set(end);
        self.last.set(start);
        start as *mut u8
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let addr = ptr as usize;
        // The most recent block can grow or shrink where it is.
        if addr == self.last.get() && addr + new_size <= self.end.get() {
            self.next.set(addr + new_size);
            return ptr;
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // SAFETY: the layout's alignment is valid and new_size is non-zero.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live and at least layout.size() long.
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size()) };
        }
        new
    }
}
