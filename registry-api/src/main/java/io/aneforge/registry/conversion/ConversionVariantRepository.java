package io.aneforge.registry.conversion;

import java.util.List;
import java.util.Optional;
import org.springframework.data.jpa.repository.JpaRepository;

interface ConversionVariantRepository extends JpaRepository<ConversionVariant, Long> {

    List<ConversionVariant> findByConversionIdOrderById(long conversionId);

    Optional<ConversionVariant> findByConversionIdAndSpecId(long conversionId, String specId);
}
