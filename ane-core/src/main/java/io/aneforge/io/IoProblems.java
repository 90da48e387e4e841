package io.aneforge.io;

import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The words an error message uses for an I/O error: what went wrong and, where it is not obvious, what to
 * do. The JDK's own messages are often a bare path ({@link NoSuchFileException}, {@link AccessDeniedException})
 * or say nothing a user can act on ({@code Input length = 1} for a file that is not UTF-8); every message
 * that reports an {@link java.io.IOException} takes its text from here, after its own "cannot read X: ".
 */
public final class IoProblems {
    private IoProblems() {
    }

    /** What went wrong, naming the file the exception is about (when it names one). */
    public static String describe(Throwable e) {
        return describe(e, null);
    }

    /**
     * Like {@link #describe(Throwable)}; when the exception is about {@code subject} itself, which the
     * surrounding message names already, the text says "it" instead of repeating the path.
     */
    public static String describe(Throwable e, Path subject) {
        if (e instanceof UncheckedIOException u && u.getCause() != null) {
            return describe(u.getCause(), subject);
        }
        if (e instanceof CharacterCodingException) { // MalformedInputException, UnmappableCharacterException
            return (subject == null ? "the file" : "it") + " is not UTF-8 text: save it as UTF-8";
        }
        String message = e.getMessage();
        String lower = message == null ? "" : message.toLowerCase(Locale.ROOT);
        if (lower.contains("no space left on device") || lower.contains("disk quota exceeded")) {
            return "the disk is full (" + reason(e) + "): free some space or write elsewhere";
        }
        if (lower.equals("is a directory")) { // reading a directory as a file: a plain IOException, no path
            return (subject == null ? "the path" : "it") + " is a directory, not a file";
        }
        if (e instanceof FileSystemException f && f.getFile() != null) {
            String file = f.getFile();
            String it = subject != null && same(subject, file) ? "it" : file;
            if (e instanceof NoSuchFileException) {
                return it + " does not exist";
            }
            if (e instanceof NotDirectoryException) {
                return it + " is not a directory";
            }
            if (e instanceof AccessDeniedException) {
                return "permission denied on " + (it.equals("it") ? subject.toString() : it) + ": check its permissions "
                        + "and its directory's";
            }
            if (e instanceof DirectoryNotEmptyException) {
                return it + " is a directory that is not empty";
            }
            if (e instanceof FileAlreadyExistsException) {
                return Files.isDirectory(Path.of(file)) ? it + " already exists" : it + " exists and is not a directory";
            }
            if (lower.contains("read-only file system")) {
                return it + " is on a read-only file system";
            }
            String why = f.getReason();
            if (why == null || why.isBlank()) {
                return it + ": " + e.getClass().getSimpleName();
            }
            return it + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile()) + ": " + why;
        }
        if (message == null || message.isBlank()) {
            return e.getClass().getSimpleName();
        }
        return message.lines().findFirst().orElse(message).strip(); // one line, whatever the cause's message holds
    }

    private static String reason(Throwable e) {
        return e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : e.getMessage();
    }

    private static boolean same(Path subject, String file) {
        return subject.toString().equals(file) || subject.toAbsolutePath().normalize().equals(
                Path.of(file).toAbsolutePath().normalize());
    }
}
