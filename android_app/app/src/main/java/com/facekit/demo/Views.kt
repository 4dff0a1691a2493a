package com.facekit.demo

import android.app.Activity
import android.view.View

/** A view of the layout by id; the typed local keeps it compiling against API 23's and API 26+'s findViewById. */
inline fun <reified T : View> Activity.viewById(id: Int): T {
    val view: View = findViewById(id)
    return view as T
}
