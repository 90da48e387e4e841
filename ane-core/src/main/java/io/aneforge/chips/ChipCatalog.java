package io.aneforge.chips;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The chip catalog, the device-identifier map and the CPU-brand map, read from {@code chips.psv},
 * {@code devices.psv} and {@code cpu-brands.psv} next to this class. Adding a chip or device is a
 * data change; the registry and the device agents read the same rows.
 */
public final class ChipCatalog {

    private static final String CHIPS = "chips.psv";
    private static final String DEVICES = "devices.psv";
    private static final String CPU_BRANDS = "cpu-brands.psv";
    private static volatile ChipCatalog builtIn;

    private final Map<String, Chip> chips;
    private final Map<String, Device> devices;
    private final Map<String, CpuBrand> cpuBrands;

    public ChipCatalog(List<Chip> chips, List<Device> devices) {
        this(chips, devices, List.of());
    }

    public ChipCatalog(List<Chip> chips, List<Device> devices, List<CpuBrand> cpuBrands) {
        Map<String, Chip> c = new LinkedHashMap<>();
        for (Chip chip : chips) {
            if (c.put(chip.id(), chip) != null) throw new IllegalArgumentException("chip " + chip.id() + " is listed twice");
        }
        Map<String, Device> d = new LinkedHashMap<>();
        for (Device device : devices) {
            if (!c.containsKey(device.chipId())) {
                throw new IllegalArgumentException("device " + device.identifier() + " names chip '" + device.chipId()
                        + "' which is not in the chip catalog " + c.keySet());
            }
            if (d.put(device.identifier(), device) != null) {
                throw new IllegalArgumentException("device " + device.identifier() + " is listed twice");
            }
        }
        Map<String, CpuBrand> b = new LinkedHashMap<>();
        for (CpuBrand brand : cpuBrands) {
            if (!c.containsKey(brand.chipId())) {
                throw new IllegalArgumentException("cpu brand '" + brand.brand() + "' names chip '" + brand.chipId()
                        + "' which is not in the chip catalog " + c.keySet());
            }
            if (b.put(CpuBrand.key(brand.brand()), brand) != null) {
                throw new IllegalArgumentException("cpu brand '" + brand.brand() + "' is listed twice");
            }
        }
        this.chips = Collections.unmodifiableMap(c);
        this.devices = Collections.unmodifiableMap(d);
        this.cpuBrands = Collections.unmodifiableMap(b);
    }

    /** The catalog shipped with ane-core (loaded once). */
    public static ChipCatalog builtIn() {
        ChipCatalog c = builtIn;
        if (c == null) {
            synchronized (ChipCatalog.class) {
                if (builtIn == null) builtIn = load();
                c = builtIn;
            }
        }
        return c;
    }

    static ChipCatalog load() {
        List<Chip> chips = new ArrayList<>();
        for (Row r : rows(CHIPS, 9)) {
            try {
                String[] f = r.fields();
                chips.add(new Chip(f[0], ChipLine.valueOf(f[1]), Integer.parseInt(f[2]), f[3], Double.parseDouble(f[4]),
                        f[5].isEmpty() ? null : Double.valueOf(f[5]), f[6], FastPath.valueOf(f[7].toUpperCase().replace('-', '_')), f[8]));
            } catch (RuntimeException e) {
                throw new IllegalStateException(CHIPS + " line " + r.line() + ": " + e.getMessage(), e);
            }
        }
        List<Device> devices = new ArrayList<>();
        for (Row r : rows(DEVICES, 5)) {
            try {
                String[] f = r.fields();
                devices.add(new Device(f[0], f[1], f[2], Platform.parse(f[3]), f[4]));
            } catch (RuntimeException e) {
                throw new IllegalStateException(DEVICES + " line " + r.line() + ": " + e.getMessage(), e);
            }
        }
        List<CpuBrand> brands = new ArrayList<>();
        for (Row r : rows(CPU_BRANDS, 3)) {
            try {
                String[] f = r.fields();
                brands.add(new CpuBrand(f[0], f[1], f[2]));
            } catch (RuntimeException e) {
                throw new IllegalStateException(CPU_BRANDS + " line " + r.line() + ": " + e.getMessage(), e);
            }
        }
        return new ChipCatalog(chips, devices, brands);
    }

    private record Row(int line, String[] fields) {}

    private static List<Row> rows(String resource, int columns) {
        try (InputStream in = ChipCatalog.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("resource io/aneforge/chips/" + resource + " is missing from the classpath");
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            List<Row> rows = new ArrayList<>();
            boolean header = true;
            int n = 0;
            for (String line; (line = reader.readLine()) != null; ) {
                n++;
                if (line.isBlank() || line.startsWith("#")) continue;
                if (header) { header = false; continue; }
                String[] f = line.split("\\|", -1);
                if (f.length != columns) {
                    throw new IllegalStateException(resource + " line " + n + ": expected " + columns + " |-separated fields, found " + f.length);
                }
                for (int i = 0; i < f.length; i++) f[i] = f[i].trim();
                rows.add(new Row(n, f));
            }
            return rows;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<Chip> chips() { return List.copyOf(chips.values()); }

    public List<Device> devices() { return List.copyOf(devices.values()); }

    public Optional<Chip> chip(String id) { return Optional.ofNullable(chips.get(id)); }

    public Optional<Device> device(String identifier) { return Optional.ofNullable(devices.get(identifier)); }

    public List<CpuBrand> cpuBrands() { return List.copyOf(cpuBrands.values()); }

    /**
     * The chip of a CPU brand string ("Apple M2 Pro" → M2), matched case-insensitively with whitespace
     * collapsed; empty for a brand the catalog does not list (Intel, Linux hosts, chips newer than the catalog).
     */
    public Optional<Chip> chipOfCpuBrand(String brand) {
        if (brand == null) return Optional.empty();
        return Optional.ofNullable(cpuBrands.get(CpuBrand.key(brand))).map(b -> chips.get(b.chipId()));
    }

    /** The chip of a device identifier, if the identifier is known. */
    public Optional<Chip> chipOfDevice(String identifier) {
        return device(identifier).map(d -> chips.get(d.chipId()));
    }
}
