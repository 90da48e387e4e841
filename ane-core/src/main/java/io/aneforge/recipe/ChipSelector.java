package io.aneforge.recipe;

import io.aneforge.chips.Chip;
import io.aneforge.chips.ChipCatalog;
import io.aneforge.chips.FastPath;
import java.util.ArrayList;
import java.util.List;

/**
 * Which chips a recipe entry applies to: {@code all}, {@code w8a8} (the chips the catalog lists with
 * the W8A8 fast path) or an explicit list of catalog ids. Keywords rather than frozen lists keep a new
 * catalog row (a new chip) covered by the recipes without editing them.
 *
 * @param keyword {@code all} or {@code w8a8}, or null for an explicit list
 * @param ids the explicit chip ids (empty for a keyword)
 */
public record ChipSelector(String keyword, List<String> ids) {

    public static final String ALL = "all";
    public static final String W8A8 = "w8a8";

    public ChipSelector {
        ids = List.copyOf(ids);
        if (keyword != null && !keyword.equals(ALL) && !keyword.equals(W8A8)) {
            throw new IllegalArgumentException("chip selector keyword must be all or w8a8, got '" + keyword + "'");
        }
        if ((keyword == null) == ids.isEmpty()) {
            throw new IllegalArgumentException("a chip selector is either a keyword or a non-empty list of ids");
        }
    }

    public static ChipSelector all() {
        return new ChipSelector(ALL, List.of());
    }

    public static ChipSelector of(List<String> ids) {
        return new ChipSelector(null, ids);
    }

    /** The catalog chips this selector names, in catalog order for keywords and in list order otherwise. */
    public List<Chip> expand(ChipCatalog catalog) {
        List<Chip> out = new ArrayList<>();
        if (keyword == null) {
            for (String id : ids) {
                out.add(catalog.chip(id).orElseThrow(() -> new IllegalStateException("chip " + id + " was validated")));
            }
        } else {
            for (Chip c : catalog.chips()) {
                if (keyword.equals(ALL) || c.w8a8() == FastPath.YES) {
                    out.add(c);
                }
            }
        }
        return out;
    }

    public boolean matches(Chip chip) {
        if (keyword == null) {
            return ids.contains(chip.id());
        }
        return keyword.equals(ALL) || chip.w8a8() == FastPath.YES;
    }

    @Override
    public String toString() {
        return keyword != null ? keyword : ids.toString();
    }
}
