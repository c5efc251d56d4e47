/**
 * What the kernel's code is, as far as a disassembler needs to know before it starts: where each
 * function ends, which functions never return (and which must never be taken for such), which
 * text symbols are padding or CFI preambles rather than functions, whether 32-bit ARM text is
 * Thumb-2, the system call tables, and the compiler named in the banner. Decided here, from the
 * kernel's own bytes and names, so that the Ghidra loader and analyzer only translate it.
 */
package kernelloader.code;
