package io.urunc.vmm;

import io.urunc.vmm.types.HermitType;
import io.urunc.vmm.types.LinuxType;
import io.urunc.vmm.types.MewzType;
import io.urunc.vmm.types.MirageType;
import io.urunc.vmm.types.RumprunType;
import io.urunc.vmm.types.UnikraftType;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** Registry of unikernel types by annotation name. */
public final class UnikernelTypes {
    private static final Map<String, UnikernelType> KNOWN = new TreeMap<>();

    static {
        for (UnikernelType t : List.of(new LinuxType(), new UnikraftType(),
                new RumprunType(), new MirageType(), new MewzType(), new HermitType())) KNOWN.put(t.name(), t);
    }

    private UnikernelTypes() {}

    public static UnikernelType byName(String name) throws VmmException {
        UnikernelType t = name == null ? null : KNOWN.get(name);
        if (t == null) throw new VmmException("unknown unikernel type '" + name + "' (known: " + String.join(", ", KNOWN.keySet()) + ")");
        return t;
    }

    public static Set<String> names() { return java.util.Collections.unmodifiableSet(KNOWN.keySet()); }
}
