plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
}

android {
    namespace = "com.facekit.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "com.facekit.demo"
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
    }

    sourceSets {
        // the golden contract's photos and reuse clip are the benchmark mode's test images and clip
        getByName("main").assets.srcDirs("src/main/assets", "../../tests/golden")
    }

    androidResources {
        noCompress += "tflite" // the models are memory-mapped from the APK
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_1_8
        targetCompatibility = JavaVersion.VERSION_1_8
    }

    kotlinOptions {
        jvmTarget = "1.8"
    }
}

dependencies {
    implementation(project(":core"))
    implementation(libs.litert)
    implementation(libs.litert.gpu)
}
