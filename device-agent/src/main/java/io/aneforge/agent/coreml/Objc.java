package io.aneforge.agent.coreml;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Minimal Objective-C messaging through JNA: {@code objc_getClass}, {@code sel_registerName},
 * {@code objc_msgSend}, autorelease pools, and NSString/NSNumber/NSArray/NSError helpers.
 * <b>Written against Apple's documented API, not yet run on a Mac.</b>
 *
 * <h2>Why objc_msgSend is called without varargs</h2>
 * {@code objc_msgSend} is declared variadic in C, but it is a trampoline that jumps to the
 * method implementation, which has an ordinary fixed prototype. On arm64 (Apple's ABI)
 * variadic arguments go on the stack while fixed arguments go in registers, so calling it the
 * variadic way passes arguments where the method never looks. It must be called as if it
 * had the method's exact prototype ({@code id (*)(id, SEL, args...)}), which is what
 * {@link Function#invoke} does when the {@code Function.USE_VARARGS} call flag is <b>not</b>
 * set (the default here): libffi marshals each Java argument by its type into the registers
 * the fixed prototype uses. Consequences for callers:
 * <ul>
 *   <li>pass {@code NSInteger}/{@code NSUInteger} arguments as Java {@code long} (64-bit),
 *       never {@code int}: a 32-bit value leaves the upper register half undefined;
 *   <li>object and pointer arguments as {@link Pointer}; {@code NSError **} as a
 *       {@link com.sun.jna.ptr.PointerByReference};
 *   <li>choose the return type per method: {@link #send} for {@code id}/pointers,
 *       {@link #sendLong} for {@code NSInteger}/{@code NSUInteger}/enums; no struct returns are
 *       used (arm64 has no {@code objc_msgSend_stret} anyway).
 * </ul>
 * Sending a selector an object does not implement raises an Objective-C exception, which
 * aborts the JVM: only selectors documented for the receiving class are used.
 */
final class Objc {

    private final Function msgSend;
    private final Function getClass;
    private final Function registerName;
    private final Function poolPush;
    private final Function poolPop;
    private final Map<String, Pointer> selectors = new ConcurrentHashMap<>();
    private final Map<String, Pointer> classes = new ConcurrentHashMap<>();

    /** Loads libobjc and the named frameworks (their classes register when loaded). */
    Objc(String... frameworks) {
        NativeLibrary objc = NativeLibrary.getInstance("objc");
        for (String framework : frameworks) {
            // JNA resolves "CoreML" to /System/Library/Frameworks/CoreML.framework/CoreML on macOS.
            NativeLibrary.getInstance(framework);
        }
        msgSend = objc.getFunction("objc_msgSend");
        getClass = objc.getFunction("objc_getClass");
        registerName = objc.getFunction("sel_registerName");
        poolPush = objc.getFunction("objc_autoreleasePoolPush");
        poolPop = objc.getFunction("objc_autoreleasePoolPop");
    }

    Pointer cls(String name) {
        return classes.computeIfAbsent(name, n -> {
            Pointer c = getClass.invokePointer(new Object[] {cString(n)});
            if (c == null) {
                throw new IllegalStateException("Objective-C class " + n + " not found: its framework is not loaded"
                        + " or this macOS is too old for it");
            }
            return c;
        });
    }

    Pointer sel(String name) {
        return selectors.computeIfAbsent(name, n -> registerName.invokePointer(new Object[] {cString(n)}));
    }

    /** A message returning {@code id} or a pointer (null for nil). */
    Pointer send(Pointer receiver, String selector, Object... args) {
        return msgSend.invokePointer(withReceiver(receiver, selector, args));
    }

    /** A message returning {@code NSInteger}, {@code NSUInteger} or an NS_ENUM. */
    long sendLong(Pointer receiver, String selector, Object... args) {
        return msgSend.invokeLong(withReceiver(receiver, selector, args));
    }

    /** A message returning {@code void}. */
    void sendVoid(Pointer receiver, String selector, Object... args) {
        msgSend.invokeVoid(withReceiver(receiver, selector, args));
    }

    private Object[] withReceiver(Pointer receiver, String selector, Object[] args) {
        if (receiver == null) {
            throw new IllegalStateException("message " + selector + " sent to nil");
        }
        Object[] all = new Object[args.length + 2];
        all[0] = receiver;
        all[1] = sel(selector);
        System.arraycopy(args, 0, all, 2, args.length);
        return all;
    }

    /** {@code objc_autoreleasePoolPush}; pair with {@link #popPool} in a finally block. */
    Pointer pushPool() {
        return poolPush.invokePointer(new Object[0]);
    }

    void popPool(Pointer pool) {
        poolPop.invokeVoid(new Object[] {pool});
    }

    /** An autoreleased NSString from UTF-8 bytes (not JNA's default string encoding). */
    Pointer nsString(String s) {
        return send(cls("NSString"), "stringWithUTF8String:", cString(s));
    }

    String javaString(Pointer nsString) {
        if (nsString == null) {
            return null;
        }
        Pointer utf8 = send(nsString, "UTF8String");
        return utf8 == null ? null : utf8.getString(0, StandardCharsets.UTF_8.name());
    }

    Pointer fileUrl(Path path) {
        return send(cls("NSURL"), "fileURLWithPath:", nsString(path.toAbsolutePath().toString()));
    }

    String urlPath(Pointer nsUrl) {
        return javaString(send(nsUrl, "path"));
    }

    /** An autoreleased {@code NSArray<NSNumber *>} for an MLMultiArray shape. */
    Pointer numberArray(int[] values) {
        Pointer array = send(cls("NSMutableArray"), "arrayWithCapacity:", (long) values.length);
        for (int v : values) {
            send(array, "addObject:", send(cls("NSNumber"), "numberWithLongLong:", (long) v));
        }
        return array;
    }

    /** {@code NSArray<NSNumber *>} (shape, strides) to longs. */
    long[] longs(Pointer nsArray) {
        long n = sendLong(nsArray, "count");
        long[] out = new long[Math.toIntExact(n)];
        for (int i = 0; i < out.length; i++) {
            out[i] = sendLong(send(nsArray, "objectAtIndex:", (long) i), "longLongValue");
        }
        return out;
    }

    /** Reads an NSError (valid until the enclosing pool is popped); null for nil. */
    NsErrorInfo error(Pointer nsError) {
        if (nsError == null) {
            return null;
        }
        return new NsErrorInfo(javaString(send(nsError, "domain")), sendLong(nsError, "code"),
                javaString(send(nsError, "localizedDescription")),
                javaString(send(nsError, "localizedFailureReason")));
    }

    private static Memory cString(String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        Memory m = new Memory(bytes.length + 1L);
        m.write(0, bytes, 0, bytes.length);
        m.setByte(bytes.length, (byte) 0);
        return m;
    }
}
