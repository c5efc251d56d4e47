package kernelloader.ghidra;

import java.lang.reflect.Field;

import db.DBHandle;
import db.buffers.BufferMgr;
import ghidra.framework.data.DomainObjectAdapterDB;
import ghidra.program.model.listing.Program;

/**
 * Widens a new program's database buffer cache while the loader fills it. Ghidra gives a
 * program created in memory a 4 MB cache (BufferMgr.DEFAULT_CACHE_SIZE, 256 buffers of 16 KB);
 * a kernel's symbols, functions, parameters and types are hundreds of MB of records, so the
 * load spent most of its time writing buffers out to the cache file and reading them back
 * (measured on bookworm arm64: 2/3 of applying 48 000 prototypes). Ghidra offers no setting for
 * it, so this reaches the private field, and does nothing where the field is not there.
 */
final class DatabaseCache {
    private DatabaseCache() {}

    /** Sets the program's cache to at least {@code bytes}; returns a handle that puts it back, never null. */
    static AutoCloseable widen(Program program, long bytes) {
        try {
            Field dbh = DomainObjectAdapterDB.class.getDeclaredField("dbh");
            dbh.setAccessible(true);
            Object handle = dbh.get(program);
            Field mgrField = DBHandle.class.getDeclaredField("bufferMgr");
            mgrField.setAccessible(true);
            Object mgr = mgrField.get(handle);
            Field max = BufferMgr.class.getDeclaredField("maxCacheSize");
            max.setAccessible(true);
            int before = max.getInt(mgr);
            int buffers = (int) Math.min(Integer.MAX_VALUE, bytes / BufferMgr.DEFAULT_BUFFER_SIZE);
            if (buffers <= before) return () -> {};
            max.setInt(mgr, buffers);
            return () -> max.setInt(mgr, before);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return () -> {};   // another Ghidra: load at its own speed
        }
    }
}
