//! DMA memory (redox-driver-sys `Dma<T>`): zeroed, physically contiguous
//! whole pages of the driver's memory, marked for device DMA, with their
//! physical address. A device may DMA only into such memory (elsewhere the
//! simulated IOMMU refuses it).

use core::mem::{self, MaybeUninit};
use core::ops::{Deref, DerefMut};
use core::ptr::{self, NonNull};
use core::slice;

use crate::error::{Error, Result, ENOMEM};
use crate::sys;

pub const PAGE_SIZE: usize = 4096;

/// A value of type `T` (possibly a slice) in DMA memory.
pub struct Dma<T: ?Sized> {
    phys: u64,
    /// Bytes allocated (whole pages).
    size: usize,
    virt: NonNull<T>,
}

unsafe impl<T: ?Sized + Send> Send for Dma<T> {}
unsafe impl<T: ?Sized + Sync> Sync for Dma<T> {}

fn alloc_pages(bytes: usize) -> Result<(*mut u8, u64, usize)> {
    let size = (bytes.max(1) + PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
    let mut phys = 0u64;
    let p = unsafe { sys::physalloc(size, &mut phys) };
    if p.is_null() { Err(Error::new(ENOMEM)) } else { Ok((p, phys, size)) }
}

impl<T> Dma<T> {
    /// Zeroed DMA memory for one `T` (Redox: `Dma::zeroed()`, then `assume_init`).
    pub fn zeroed() -> Result<Dma<MaybeUninit<T>>> {
        let (p, phys, size) = alloc_pages(mem::size_of::<T>())?;
        Ok(Dma { phys, size, virt: unsafe { NonNull::new_unchecked(p as *mut MaybeUninit<T>) } })
    }

    /// DMA memory holding `value`.
    pub fn new(value: T) -> Result<Dma<T>> {
        let d = Dma::<T>::zeroed()?;
        unsafe {
            ptr::write(d.virt.as_ptr() as *mut T, value);
            Ok(d.assume_init())
        }
    }

    /// Zeroed DMA memory for `len` values of `T`.
    pub fn zeroed_slice(len: usize) -> Result<Dma<[MaybeUninit<T>]>> {
        let (p, phys, size) = alloc_pages(len * mem::size_of::<T>())?;
        let s = ptr::slice_from_raw_parts_mut(p as *mut MaybeUninit<T>, len);
        Ok(Dma { phys, size, virt: unsafe { NonNull::new_unchecked(s) } })
    }
}

impl<T> Dma<MaybeUninit<T>> {
    /// # Safety
    /// All zero bytes must be a valid `T` (or the value was written).
    pub unsafe fn assume_init(self) -> Dma<T> {
        let d = Dma { phys: self.phys, size: self.size, virt: self.virt.cast::<T>() };
        mem::forget(self);
        d
    }
}

impl<T> Dma<[MaybeUninit<T>]> {
    /// # Safety
    /// All zero bytes must be a valid `T` (or the values were written).
    pub unsafe fn assume_init(self) -> Dma<[T]> {
        let len = (*self.virt.as_ptr()).len();
        let s = ptr::slice_from_raw_parts_mut(self.virt.as_ptr() as *mut T, len);
        let d = Dma { phys: self.phys, size: self.size, virt: NonNull::new_unchecked(s) };
        mem::forget(self);
        d
    }
}

/// A byte buffer in DMA memory.
pub type DmaBuffer = Dma<[u8]>;

impl Dma<[u8]> {
    /// A zeroed DMA byte buffer of `len` bytes (whole pages are allocated).
    pub fn buffer(len: usize) -> Result<DmaBuffer> {
        unsafe { Ok(Dma::<u8>::zeroed_slice(len)?.assume_init()) }
    }
}

impl<T: ?Sized> Dma<T> {
    /// The physical (bus) address a device uses.
    pub fn physical(&self) -> u64 {
        self.phys
    }

    /// Bytes allocated (a whole number of pages).
    pub fn allocated(&self) -> usize {
        self.size
    }

    pub fn as_ptr(&self) -> *const T {
        self.virt.as_ptr()
    }

    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.virt.as_ptr()
    }

    /// The memory as bytes (what a device sees).
    pub fn bytes(&self) -> &[u8] {
        unsafe { slice::from_raw_parts(self.virt.as_ptr() as *const u8, mem::size_of_val(&*self.virt.as_ptr())) }
    }
}

impl<T: ?Sized> Deref for Dma<T> {
    type Target = T;
    fn deref(&self) -> &T {
        unsafe { self.virt.as_ref() }
    }
}

impl<T: ?Sized> DerefMut for Dma<T> {
    fn deref_mut(&mut self) -> &mut T {
        unsafe { self.virt.as_mut() }
    }
}

impl<T: ?Sized> Drop for Dma<T> {
    fn drop(&mut self) {
        unsafe {
            ptr::drop_in_place(self.virt.as_ptr());
            sys::physfree(self.virt.as_ptr() as *mut u8, self.size);
        }
    }
}
